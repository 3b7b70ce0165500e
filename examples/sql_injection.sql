-- SQL injection that got through: an HTTP request with SQL injection in its
-- URI, answered 200 OK on the same connection. A 403 or 500 answer means a
-- filter or the application rejected it.
--
-- By default the rules read datasets/web-attack.pcap (written by
-- datasets/generate.py): 198.51.100.66 sends two injections, one answered
-- 200 and one 403.
--
-- Run:            workbench run examples/sql_injection.sql
-- On a capture:   workbench run examples/sql_injection.sql --with packets.path=/data/capture.pcapng

CREATE TABLE packets WITH (
    'connector' = 'pcap',
    'path' = '../datasets/web-attack.pcap'
);

-- Requests and responses of plain HTTP, keyed by the client's address and
-- port, which name the connection in both directions. The pcap reader
-- decodes HTTP from the first packet of each message (there is no TCP
-- reassembly), which holds the request line or the status line.
--
-- The injection test reads the URI as sent, still percent-encoded, lower
-- case: a quote (' or %27) followed by OR or AND, UNION SELECT, a quote
-- followed by a comment (-- or #), or SLEEP( and BENCHMARK(. Spaces may be
-- written +, %20 or /**/.
-- NOTE: a pattern list finds the common forms only; double encoding or
-- injection in a POST body passes unseen.
CREATE VIEW http_messages AS
SELECT
    ts,
    CASE WHEN http.method IS NOT NULL THEN src_ip ELSE dst_ip END AS client_ip,
    CASE WHEN http.method IS NOT NULL THEN src_port ELSE dst_port END AS client_port,
    CASE WHEN http.method IS NOT NULL THEN dst_ip ELSE src_ip END AS server_ip,
    http.method AS method,
    http.uri AS uri,
    http.status AS status,
    REGEXP(
        LOWER(COALESCE(http.uri, '')),
        '(''|%27)(\+|%20|\s|/\*\*/)*(or|and)(\+|%20|\s|/\*\*/)'
        || '|union(\+|%20|\s|/\*\*/)+(all(\+|%20|\s|/\*\*/)+)?select'
        || '|(''|%27)(\+|%20|\s)*(--|%2d%2d|#|%23)'
        || '|(sleep|benchmark)(\(|%28)'
    ) AS injection
FROM packets
WHERE http.method IS NOT NULL OR http.status IS NOT NULL;

-- Alert: an injection request followed by a 200 response on its connection
-- within a minute.
SELECT *
FROM http_messages MATCH_RECOGNIZE (
    PARTITION BY client_ip, client_port, server_ip
    ORDER BY ts
    MEASURES
        REQ.ts AS requested_at,
        REQ.method AS method,
        REQ.uri AS uri,
        RESP.status AS status,
        RESP.ts AS answered_at
    ONE ROW PER MATCH
    AFTER MATCH SKIP PAST LAST ROW
    PATTERN (REQ RESP) WITHIN INTERVAL '1' MINUTE
    DEFINE
        REQ AS REQ.injection,
        RESP AS RESP.status = 200
);

-- Every injection request with the status it got, whatever it was.
SELECT *
FROM http_messages MATCH_RECOGNIZE (
    PARTITION BY client_ip, client_port, server_ip
    ORDER BY ts
    MEASURES
        REQ.ts AS requested_at,
        REQ.uri AS uri,
        RESP.status AS status
    ONE ROW PER MATCH
    AFTER MATCH SKIP PAST LAST ROW
    PATTERN (REQ RESP) WITHIN INTERVAL '1' MINUTE
    DEFINE
        REQ AS REQ.injection,
        RESP AS RESP.status IS NOT NULL
);
