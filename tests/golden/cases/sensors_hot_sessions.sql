-- Sessions of readings above 27 degrees per device, closed after a quiet minute.
CREATE TABLE sensors (
  ts TIMESTAMP(3),
  device ROW<id STRING, site ROW<name STRING, floor INT>>,
  readings ARRAY<ROW<kind STRING, `value` DOUBLE>>,
  tags MAP<STRING, STRING>,
  WATERMARK FOR ts AS ts - INTERVAL '2' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'sensors.jsonl', 'format' = 'json');

CREATE VIEW hot AS
SELECT ts, device.id AS device_id, readings[1].`value` AS temperature
FROM sensors
WHERE readings[1].`value` > 27;

SELECT device_id, window_start, window_end, COUNT(*) AS readings, MAX(temperature) AS hottest
FROM TABLE(SESSION(TABLE hot PARTITION BY device_id, DESCRIPTOR(ts), INTERVAL '1' MINUTE))
GROUP BY device_id, window_start, window_end;
