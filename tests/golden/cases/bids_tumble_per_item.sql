-- Bids per item and half hour; a 10-minute watermark delay leaves no bid late.
CREATE TABLE bids (
  bid_id BIGINT,
  placed_at TIMESTAMP(3),
  item STRING,
  bidder STRING,
  price DOUBLE,
  channel STRING,
  WATERMARK FOR placed_at AS placed_at - INTERVAL '10' MINUTE
) WITH ('connector' = 'filesystem', 'path' = 'bids.csv', 'format' = 'csv');

SELECT item, window_start, window_end, COUNT(*) AS bids, SUM(price) AS total, MAX(price) AS top
FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(placed_at), INTERVAL '30' MINUTE))
GROUP BY item, window_start, window_end;
