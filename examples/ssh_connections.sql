-- SSH password guessing seen in packets: many connections to port 22 from
-- one source in a short time. A guessing tool opens a new connection every
-- few seconds once the server closes the last one after too many failures.
--
-- By default the rules read datasets/ssh-guess.pcap (written by
-- datasets/generate.py): 203.0.113.23 opens 12 SSH connections to
-- 10.0.0.22 in 55 seconds, while two other hosts open one each.
--
-- Run:            workbench run examples/ssh_connections.sql
-- On a capture:   workbench run examples/ssh_connections.sql --with packets.path=/data/capture.pcap

CREATE TABLE packets WITH (
    'connector' = 'pcap',
    'path' = '../datasets/ssh-guess.pcap'
);

-- The first packet of each connection: a SYN without ACK to port 22. A SYN
-- sent again (a retransmission) keeps its source port, so the rules count
-- distinct source ports as connections.
-- NOTE: a client that reuses a source port within the window counts once.
CREATE VIEW ssh_attempts AS
SELECT ts, src_ip AS client, dst_ip AS server, src_port
FROM packets
WHERE proto = 'tcp' AND dst_port = 22 AND syn AND NOT ack;

-- Alert: ten or more SSH connections from one client to one server within
-- five minutes, in windows that slide by one minute.
SELECT
    client,
    server,
    window_start,
    window_end,
    COUNT(DISTINCT src_port) AS connections
FROM TABLE(HOP(TABLE ssh_attempts, DESCRIPTOR(ts), INTERVAL '1' MINUTE, INTERVAL '5' MINUTE))
GROUP BY client, server, window_start, window_end
HAVING COUNT(DISTINCT src_port) >= 10;

-- Every burst of connections, one row each: a session window per (client,
-- server) closes after a minute without a new connection.
SELECT
    client,
    server,
    window_start AS first_connection,
    window_end,
    COUNT(DISTINCT src_port) AS connections
FROM TABLE(SESSION(TABLE ssh_attempts PARTITION BY client, server, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY client, server, window_start, window_end;
