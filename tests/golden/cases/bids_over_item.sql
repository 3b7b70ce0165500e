-- A moving average over the last three bids on one item, in event-time order.
CREATE TABLE bids (
  bid_id BIGINT,
  placed_at TIMESTAMP(3),
  item STRING,
  bidder STRING,
  price DOUBLE,
  channel STRING,
  WATERMARK FOR placed_at AS placed_at - INTERVAL '10' MINUTE
) WITH ('connector' = 'filesystem', 'path' = 'bids.csv', 'format' = 'csv');

SELECT placed_at, bid_id, price,
  AVG(price) OVER (ORDER BY placed_at ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS moving
FROM bids
WHERE item = 'item-01';
