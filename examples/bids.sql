-- Auction bids (datasets/bids.csv, written by datasets/generate.py): 3,000
-- bids on 12 items over two hours. About 5 % arrive up to 20 s out of order
-- and 15 arrive minutes late; two lines are malformed on purpose.
--
-- Run: workbench run examples/bids.sql

CREATE TABLE bids (
    bid_id BIGINT,
    placed_at TIMESTAMP(3),
    item STRING,
    bidder STRING,
    price DOUBLE,
    channel STRING,
    -- A 30-second delay absorbs the ordinary disorder; the few bids that are
    -- minutes late go to the late-rows output instead of changing results.
    WATERMARK FOR placed_at AS placed_at - INTERVAL '30' SECOND
) WITH (
    'connector' = 'filesystem',
    'path' = '../datasets/bids.csv',
    'format' = 'csv'
);

-- Revenue per item every 10 minutes.
SELECT
    item,
    window_start,
    window_end,
    COUNT(*) AS bids,
    COUNT(DISTINCT bidder) AS bidders,
    ROUND(SUM(price), 2) AS revenue,
    MAX(price) AS top_price
FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(placed_at), INTERVAL '10' MINUTES))
GROUP BY item, window_start, window_end;

-- The two best-selling items of each 30-minute window.
SELECT window_start, window_end, item, revenue, place
FROM (
    SELECT
        window_start,
        window_end,
        item,
        ROUND(SUM(price), 2) AS revenue,
        ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY SUM(price) DESC) AS place
    FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(placed_at), INTERVAL '30' MINUTES))
    GROUP BY window_start, window_end, item
)
WHERE place <= 2;

-- Revenue so far in each hour, every 15 minutes, per channel and in total.
SELECT
    channel,
    window_start,
    window_end,
    ROUND(SUM(price), 2) AS revenue_so_far
FROM TABLE(CUMULATE(TABLE bids, DESCRIPTOR(placed_at), INTERVAL '15' MINUTES, INTERVAL '1' HOUR))
GROUP BY window_start, window_end, ROLLUP (channel);

-- A running average over each bidder's last five bids.
SELECT
    bidder,
    placed_at,
    price,
    ROUND(AVG(price) OVER (
        PARTITION BY bidder ORDER BY placed_at ROWS BETWEEN 4 PRECEDING AND CURRENT ROW
    ), 2) AS recent_average
FROM bids
WHERE bidder = 'bidder-007';
