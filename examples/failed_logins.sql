-- Failed logins followed by a success for the same account, from any
-- address: password guessing spread over several IP addresses, which a rule
-- per IP misses. Three or more failed attempts for one user, then an
-- accepted login for that user, all within 10 minutes.
--
-- By default the rule reads datasets/auth.log (written by
-- datasets/generate.py): 'backup' fails twice from each of three addresses,
-- then logs in from a fourth; 'root' fails seven times from one address
-- before logging in.
--
-- Run:            workbench run examples/failed_logins.sql
-- On a log:       workbench run examples/failed_logins.sql --with auth.path=/var/log/auth.log --with auth.syslog.year=2025

CREATE TABLE auth WITH (
    'connector' = 'syslog-auth',
    'path' = '../datasets/auth.log',
    'syslog.year' = '2024'
);

-- Decisions on logins: sshd (any method), login on a terminal and su (whose
-- user is the account switched to). sudo's accepted rows are commands, not
-- logins, so they are left out. 'repeats' counts the lines rsyslog folded
-- into one.
CREATE VIEW decisions AS
SELECT ts, app, ip, `user`, outcome, repeats
FROM auth
WHERE app IN ('sshd', 'login', 'su') AND outcome IN ('failed', 'accepted') AND `user` IS NOT NULL;

SELECT *
FROM decisions MATCH_RECOGNIZE (
    PARTITION BY `user`
    ORDER BY ts
    MEASURES
        FIRST(F.ts) AS first_failure,
        S.ts AS accepted_at,
        S.ip AS accepted_from,
        SUM(F.repeats) AS failed_attempts,
        COUNT(DISTINCT F.ip) AS failing_ips
    ONE ROW PER MATCH
    AFTER MATCH SKIP PAST LAST ROW
    PATTERN (F+ S) WITHIN INTERVAL '10' MINUTE
    DEFINE
        F AS F.outcome = 'failed',
        S AS S.outcome = 'accepted' AND SUM(F.repeats) >= 3
);
