-- Map and array access in a grouped query without windows.
CREATE TABLE sensors (
  ts TIMESTAMP(3),
  device ROW<id STRING, site ROW<name STRING, floor INT>>,
  readings ARRAY<ROW<kind STRING, `value` DOUBLE>>,
  tags MAP<STRING, STRING>,
  WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'sensors.jsonl', 'format' = 'json');

SELECT firmware, COUNT(*) AS readings, MIN(humidity) AS driest, MAX(humidity) AS wettest
FROM (SELECT tags['firmware'] AS firmware, readings[2].`value` AS humidity FROM sensors)
GROUP BY firmware;
