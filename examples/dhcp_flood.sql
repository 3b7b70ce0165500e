-- DHCP floods in a packet capture: a burst of DISCOVER or INFORM messages
-- that can exhaust a server's address pool or its capacity. A starvation
-- attack sends each DISCOVER from a new random MAC address.
--
-- By default the rules read datasets/dhcp-flood.pcap (written by
-- datasets/generate.py): 300 DISCOVERs from 300 MAC addresses in three
-- seconds, next to two ordinary address requests and one INFORM.
--
-- Run:            workbench run examples/dhcp_flood.sql
-- On a capture:   workbench run examples/dhcp_flood.sql --with packets.path=/data/capture.pcap

CREATE TABLE packets WITH (
    'connector' = 'pcap',
    'path' = '../datasets/dhcp-flood.pcap'
);

-- Client requests that the server must answer. client_mac is the hardware
-- address in the DHCP message, which need not match the frame's source MAC.
CREATE VIEW dhcp_requests AS
SELECT
    ts,
    dhcp.message_type AS message_type,
    dhcp.client_mac AS client_mac,
    src_ip
FROM packets
WHERE dhcp.message_type IN ('DISCOVER', 'INFORM');

-- Alert: 50 or more DISCOVER or INFORM messages in ten seconds, five a
-- second on average.
SELECT
    window_start,
    window_end,
    COUNT(*) AS requests,
    COUNT(*) FILTER (WHERE message_type = 'DISCOVER') AS discovers,
    COUNT(*) FILTER (WHERE message_type = 'INFORM') AS informs,
    COUNT(DISTINCT client_mac) AS client_macs,
    COUNT(DISTINCT src_ip) AS source_ips
FROM TABLE(TUMBLE(TABLE dhcp_requests, DESCRIPTOR(ts), INTERVAL '10' SECOND))
GROUP BY window_start, window_end
HAVING COUNT(*) >= 50;

-- All DHCP messages of the capture by type. Without a window the result
-- updates as packets arrive; its final state is one row per type.
SELECT dhcp.message_type AS message_type, COUNT(*) AS messages
FROM packets
WHERE dhcp.message_type IS NOT NULL
GROUP BY dhcp.message_type;
