-- An aggregate without windows: the final state of an updating result.
CREATE TABLE bids (
  bid_id BIGINT,
  placed_at TIMESTAMP(3),
  item STRING,
  bidder STRING,
  price DOUBLE,
  channel STRING,
  WATERMARK FOR placed_at AS placed_at - INTERVAL '10' MINUTE
) WITH ('connector' = 'filesystem', 'path' = 'bids.csv', 'format' = 'csv');

SELECT channel, COUNT(*) AS bids, COUNT(DISTINCT item) AS items, MIN(price) AS low,
  MAX(price) AS high, AVG(price) AS mean_price
FROM bids
WHERE price >= 10
GROUP BY channel;
