-- DNS tunnelling in a packet capture: one client asking for many distinct,
-- long names under one parent domain. A tunnel (iodine, dnscat2) encodes its
-- data in the leftmost labels, so every query name is new and long, while
-- ordinary lookups repeat a few short names.
--
-- By default the rule reads datasets/dns-tunnel.pcapng (written by
-- datasets/generate.py, two interfaces): on wlan0, 192.168.50.23 asks for
-- 90 distinct names under tunnel.example in 45 seconds.
--
-- Run:            workbench run examples/dns_tunnel.sql
-- On a capture:   workbench run examples/dns_tunnel.sql --with packets.path=/data/capture.pcapng

CREATE TABLE packets WITH (
    'connector' = 'pcap',
    'path' = '../datasets/dns-tunnel.pcapng'
);

-- Queries only (responses repeat the question). The parent domain is the
-- last two labels of the name.
-- NOTE: for names under a public suffix of two labels (example.co.uk) the
-- parent is the suffix itself, which merges unrelated domains.
CREATE VIEW dns_queries AS
SELECT
    ts,
    interface_name,
    src_ip AS client,
    dns.qname AS qname,
    dns.qtype AS qtype,
    REGEXP_EXTRACT(dns.qname, '([^.]+[.][^.]+)$', 1) AS parent,
    CHAR_LENGTH(dns.qname) AS name_length
FROM packets
WHERE dns.qname IS NOT NULL AND NOT dns.response;

-- Alert: 30 or more distinct names under one parent domain from one client
-- in a minute, 25 characters long or more on average.
SELECT
    client,
    parent,
    window_start,
    window_end,
    COUNT(*) AS queries,
    COUNT(DISTINCT qname) AS names,
    ROUND(AVG(name_length), 1) AS mean_length,
    MAX(name_length) AS longest,
    LISTAGG(DISTINCT qtype) AS qtypes,
    LISTAGG(DISTINCT interface_name) AS interfaces
FROM TABLE(TUMBLE(TABLE dns_queries, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY client, parent, window_start, window_end
HAVING COUNT(DISTINCT qname) >= 30 AND AVG(name_length) >= 25;
