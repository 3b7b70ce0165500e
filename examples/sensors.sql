-- Nested sensor readings (datasets/sensors.jsonl, written by
-- datasets/generate.py): six devices on two sites send a JSON object about
-- every five seconds, with a nested device record, a list of readings and a
-- map of tags. One line is not valid JSON on purpose.
--
-- Run: workbench run examples/sensors.sql

CREATE TABLE sensors (
    ts TIMESTAMP_LTZ(3),
    device ROW<id STRING, site ROW<name STRING, floor INT>>,
    readings ARRAY<ROW<kind STRING, `value` DOUBLE>>,
    tags MAP<STRING, STRING>,
    WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH (
    'connector' = 'filesystem',
    'path' = '../datasets/sensors.jsonl',
    'format' = 'json'
);

-- Flatten what the queries below need: nested fields, the first reading,
-- a map entry.
CREATE VIEW temperatures AS
SELECT
    ts,
    device.id AS device_id,
    device.site.name AS site,
    readings[1].`value` AS temperature,
    tags['firmware'] AS firmware
FROM sensors
WHERE readings[1].kind = 'temperature';

-- Mean and peak temperature per site every minute, and how many devices ran
-- the old firmware.
SELECT
    site,
    window_start,
    ROUND(AVG(temperature), 2) AS mean_temperature,
    MAX(temperature) AS peak,
    COUNT(DISTINCT device_id) FILTER (WHERE firmware = '1.3') AS devices_on_1_3
FROM TABLE(TUMBLE(TABLE temperatures, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY site, window_start, window_end
HAVING MAX(temperature) > 25;
