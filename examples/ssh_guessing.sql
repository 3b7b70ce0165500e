-- SSH password guessing that succeeded, in a syslog auth log: three or more
-- failed password attempts from one IP address, then an accepted login from
-- it, all within 10 minutes.
--
-- By default the rules read datasets/auth.log (written by
-- datasets/generate.py): 203.0.113.45 fails seven times, then logs in as
-- root; 198.51.100.9 tries ten user names and never gets in.
--
-- Run:            workbench run examples/ssh_guessing.sql
-- On a log:       workbench run examples/ssh_guessing.sql --with auth.path=/var/log/auth.log --with auth.syslog.year=2025

-- The syslog-auth connector reads RFC 3164 lines and adds the fields of
-- authentication messages: event, outcome ('failed' or 'accepted'), user,
-- ip, port, method and repeats. Classic syslog lines carry no year, so the
-- table states it: the generated log is from 2024.
CREATE TABLE auth WITH (
    'connector' = 'syslog-auth',
    'path' = '../datasets/auth.log',
    'syslog.year' = '2024'
);

-- sshd's decisions on logins. Other sshd lines ('Invalid user',
-- 'Connection closed') have no outcome and would break a run of failures in
-- the pattern below, so they are left out. rsyslog writes a run of identical
-- lines once as "message repeated N times: [...]"; that row has repeats = N.
CREATE VIEW logins AS
SELECT ts, ip, `user`, outcome, repeats
FROM auth
WHERE app = 'sshd' AND outcome IN ('failed', 'accepted');

-- Alert: failures, then a success, per IP. F+ takes the failures; the
-- success S counts only when the failures before it stand for three or more
-- attempts. WITHIN keeps matches whose first failure is less than 10 minutes
-- before the success: when the run of failures is longer, the match starts
-- at the earliest failure that is recent enough.
SELECT *
FROM logins MATCH_RECOGNIZE (
    PARTITION BY ip
    ORDER BY ts
    MEASURES
        FIRST(F.ts) AS first_failure,
        S.ts AS accepted_at,
        S.`user` AS accepted_user,
        COUNT(F.*) AS failure_lines,
        SUM(F.repeats) AS failed_attempts
    ONE ROW PER MATCH
    AFTER MATCH SKIP PAST LAST ROW
    PATTERN (F+ S) WITHIN INTERVAL '10' MINUTE
    DEFINE
        F AS F.outcome = 'failed',
        S AS S.outcome = 'accepted' AND SUM(F.repeats) >= 3
);

-- Guessing, successful or not: five or more failed attempts from one IP in
-- a ten-minute window.
SELECT
    ip,
    window_start,
    window_end,
    SUM(repeats) AS failed_attempts,
    COUNT(DISTINCT `user`) AS users
FROM TABLE(TUMBLE(TABLE logins, DESCRIPTOR(ts), INTERVAL '10' MINUTE))
WHERE outcome = 'failed'
GROUP BY ip, window_start, window_end
HAVING SUM(repeats) >= 5;
