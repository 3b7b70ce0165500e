-- The three highest bids of each half hour, ranked directly on the window function.
CREATE TABLE bids (
  bid_id BIGINT,
  placed_at TIMESTAMP(3),
  item STRING,
  bidder STRING,
  price DOUBLE,
  channel STRING,
  WATERMARK FOR placed_at AS placed_at - INTERVAL '10' MINUTE
) WITH ('connector' = 'filesystem', 'path' = 'bids.csv', 'format' = 'csv');

SELECT window_start, bid_id, item, price, rn
FROM (
  SELECT window_start, bid_id, item, price,
    ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY price DESC) AS rn
  FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(placed_at), INTERVAL '30' MINUTE))
)
WHERE rn <= 3;
