-- A misspelt column, on purpose: the workbench reports a mistake with its
-- file, line and column, marks the offending text and suggests a fix.
--
-- Run: workbench run examples/bad.sql

CREATE TABLE bids (
    bid_id BIGINT,
    placed_at TIMESTAMP(3),
    item STRING,
    bidder STRING,
    price DOUBLE,
    channel STRING,
    WATERMARK FOR placed_at AS placed_at - INTERVAL '30' SECOND
) WITH (
    'connector' = 'filesystem',
    'path' = '../datasets/bids.csv',
    'format' = 'csv'
);

SELECT pirce FROM bids;
