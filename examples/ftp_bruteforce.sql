-- FTP password guessing in a packet capture: the server's replies to the
-- client's PASS commands. 530 means the login failed, 230 that it succeeded.
-- FTP sends both in clear text, so one packet carries one reply.
--
-- By default the rules read datasets/ftp-login.pcap (written by
-- datasets/generate.py): 203.0.113.7 gets twelve 530 replies in 34 seconds,
-- then a 230; 10.0.0.8 mistypes its password once, then logs in.
--
-- Run:            workbench run examples/ftp_bruteforce.sql
-- On a capture:   workbench run examples/ftp_bruteforce.sql --with packets.path=/data/capture.pcap

CREATE TABLE packets WITH (
    'connector' = 'pcap',
    'path' = '../datasets/ftp-login.pcap'
);

-- Replies come from the server's port 21, so the client is the destination.
-- NOTE: a server on another port than 21 is not decoded as FTP.
CREATE VIEW ftp_replies AS
SELECT
    ts,
    dst_ip AS client,
    src_ip AS server,
    dst_port AS client_port,
    ftp.reply_code AS code,
    ftp.reply_text AS reply
FROM packets
WHERE src_port = 21 AND ftp.reply_code IS NOT NULL;

-- Alert: five or more failed logins for one client in a minute.
SELECT
    client,
    server,
    window_start,
    window_end,
    COUNT(*) AS failures,
    COUNT(DISTINCT client_port) AS connections
FROM TABLE(TUMBLE(TABLE ftp_replies, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
WHERE code = 530
GROUP BY client, server, window_start, window_end
HAVING COUNT(*) >= 5;

-- Alert: guessing that worked. Five or more 530 replies, then a 230, for
-- one client of one server within 10 minutes. Only 530 and 230 rows take
-- part, so the other replies of a session (220, 331, 221) do not break
-- the run of failures.
SELECT *
FROM (SELECT * FROM ftp_replies WHERE code IN (530, 230)) MATCH_RECOGNIZE (
    PARTITION BY client, server
    ORDER BY ts
    MEASURES
        FIRST(F.ts) AS first_failure,
        COUNT(F.*) AS failures,
        S.ts AS logged_in_at
    ONE ROW PER MATCH
    AFTER MATCH SKIP PAST LAST ROW
    PATTERN (F{5,} S) WITHIN INTERVAL '10' MINUTE
    DEFINE
        F AS F.code = 530,
        S AS S.code = 230
);
