-- Running totals within each hour, updated every 20 minutes.
CREATE TABLE bids (
  bid_id BIGINT,
  placed_at TIMESTAMP(3),
  item STRING,
  bidder STRING,
  price DOUBLE,
  channel STRING,
  WATERMARK FOR placed_at AS placed_at - INTERVAL '10' MINUTE
) WITH ('connector' = 'filesystem', 'path' = 'bids.csv', 'format' = 'csv');

SELECT window_start, window_end, COUNT(*) AS bids, SUM(price) AS total
FROM TABLE(CUMULATE(TABLE bids, DESCRIPTOR(placed_at), INTERVAL '20' MINUTE, INTERVAL '1' HOUR))
GROUP BY window_start, window_end;
