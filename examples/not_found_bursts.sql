-- Bursts of 404 responses from one client in a web server's access log: a
-- scanner looking for admin pages, backups and configuration files.
--
-- By default the rules read datasets/access.log (written by
-- datasets/generate.py): an Apache combined log across the switch to summer
-- time, where 198.51.100.77 requests 30 missing paths in 90 seconds.
--
-- Run:            workbench run examples/not_found_bursts.sql
-- On a log:       workbench run examples/not_found_bursts.sql --with access.path=/var/log/apache2/access.log

-- The access-log connector reads Apache and Nginx logs in the combined
-- format ('format' = 'common' or 'access-log.pattern' for others). Each
-- line's time carries its UTC offset, so ts is UTC even when the offset
-- changes in the middle of the file. Servers write a line when the request
-- ends but stamp it when it started, so lines are out of time order by up
-- to the longest request: the watermark trails by one minute, the
-- connector's default.
CREATE TABLE access WITH (
    'connector' = 'access-log',
    'path' = '../datasets/access.log'
);

-- Alert: ten or more 404 responses to one client in five minutes.
SELECT
    client_ip,
    window_start,
    window_end,
    COUNT(*) AS not_found,
    COUNT(DISTINCT path) AS paths
FROM TABLE(TUMBLE(TABLE access, DESCRIPTOR(ts), INTERVAL '5' MINUTE))
WHERE status = 404
GROUP BY client_ip, window_start, window_end
HAVING COUNT(*) >= 10;

-- Each burst as one row, wherever it falls relative to the five-minute
-- windows: 404s to one client with less than 30 seconds between them.
CREATE VIEW not_found AS
SELECT ts, client_ip, path
FROM access
WHERE status = 404;

SELECT
    client_ip,
    window_start AS first_404,
    window_end,
    COUNT(*) AS not_found,
    COUNT(DISTINCT path) AS paths
FROM TABLE(SESSION(TABLE not_found PARTITION BY client_ip, DESCRIPTOR(ts), INTERVAL '30' SECOND))
GROUP BY client_ip, window_start, window_end
HAVING COUNT(*) >= 10;
