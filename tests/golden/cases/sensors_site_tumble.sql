-- Nested JSON: the site of each device and its first reading, per five minutes.
CREATE TABLE sensors (
  ts TIMESTAMP(3),
  device ROW<id STRING, site ROW<name STRING, floor INT>>,
  readings ARRAY<ROW<kind STRING, `value` DOUBLE>>,
  tags MAP<STRING, STRING>,
  WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'sensors.jsonl', 'format' = 'json');

SELECT site, window_start, window_end, COUNT(*) AS readings, MAX(temperature) AS hottest
FROM TABLE(TUMBLE(
  TABLE (SELECT ts, device.site.name AS site, readings[1].`value` AS temperature FROM sensors),
  DESCRIPTOR(ts), INTERVAL '5' MINUTE))
GROUP BY site, window_start, window_end;
