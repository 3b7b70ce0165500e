-- Continuous glucose monitor readings: one reading every five minutes from
-- March to October 2010, local time without a zone (public-domain data
-- shipped in the bokeh_sampledata package; `make demo` copies the file into
-- datasets/cache/ first).
--
-- Run: workbench run examples/glucose.sql

CREATE TABLE glucose (
    isig DOUBLE,
    `datetime` TIMESTAMP(3),
    glucose INT,
    -- Readings may arrive up to ten minutes out of order.
    WATERMARK FOR `datetime` AS `datetime` - INTERVAL '10' MINUTE
) WITH (
    'connector' = 'filesystem',
    'path' = '../datasets/cache/glucose.csv.gz',
    'format' = 'csv',
    -- The file writes missing values as 'nil'.
    'csv.null-literal' = 'nil'
);

-- Hourly statistics, and how many readings were below 70 mg/dL.
SELECT
    window_start,
    window_end,
    COUNT(*) AS readings,
    ROUND(AVG(glucose), 1) AS mean,
    MIN(glucose) AS low,
    MAX(glucose) AS high,
    COUNT(*) FILTER (WHERE glucose < 70) AS below_70
FROM TABLE(TUMBLE(TABLE glucose, DESCRIPTOR(`datetime`), INTERVAL '1' HOUR))
GROUP BY window_start, window_end;

-- A two-hour moving view, updated every 30 minutes.
SELECT
    window_start,
    window_end,
    ROUND(AVG(glucose), 1) AS mean,
    ROUND(STDDEV_SAMP(glucose), 1) AS spread,
    ROUND(APPROX_PERCENTILE(glucose, 0.9), 1) AS p90
FROM TABLE(HOP(TABLE glucose, DESCRIPTOR(`datetime`), INTERVAL '30' MINUTE, INTERVAL '2' HOUR))
GROUP BY window_start, window_end;

-- For each day, the three hours with the highest mean glucose: hourly means
-- first (window_time, renamed hour_time, is the event time of each hourly result), then a
-- ranking per day over those hourly results.
CREATE VIEW hourly AS
SELECT window_start AS hour_start, window_time AS hour_time, ROUND(AVG(glucose), 1) AS mean
FROM TABLE(TUMBLE(TABLE glucose, DESCRIPTOR(`datetime`), INTERVAL '1' HOUR))
GROUP BY window_start, window_end, window_time;

SELECT day_start, hour_start, mean, rank_in_day
FROM (
    SELECT
        window_start AS day_start,
        hour_start,
        mean,
        ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY mean DESC) AS rank_in_day
    FROM TABLE(TUMBLE(TABLE hourly, DESCRIPTOR(hour_time), INTERVAL '1' DAY))
)
WHERE rank_in_day <= 3;

-- Low-glucose episodes: three or more consecutive readings below 70 mg/dL,
-- ended by the first reading at or above 70. Readings with no glucose value
-- end an episode too.
SELECT *
FROM glucose MATCH_RECOGNIZE (
    ORDER BY `datetime`
    MEASURES
        FIRST(LOW.`datetime`) AS began,
        LAST(LOW.`datetime`) AS last_low,
        COUNT(LOW.*) AS readings,
        MIN(LOW.glucose) AS lowest,
        RECOVERED.glucose AS recovered_at
    ONE ROW PER MATCH
    AFTER MATCH SKIP PAST LAST ROW
    PATTERN (LOW{3,} RECOVERED)
    DEFINE
        LOW AS LOW.glucose < 70,
        RECOVERED AS RECOVERED.glucose >= 70
);
