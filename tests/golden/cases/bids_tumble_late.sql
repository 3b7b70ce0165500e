-- Ten-minute windows under a 5-second watermark delay: bids that arrive after
-- their window fired are late and not counted.
CREATE TABLE bids (
  bid_id BIGINT,
  placed_at TIMESTAMP(3),
  item STRING,
  bidder STRING,
  price DOUBLE,
  channel STRING,
  WATERMARK FOR placed_at AS placed_at - INTERVAL '5' SECOND
) WITH ('connector' = 'filesystem', 'path' = 'bids.csv', 'format' = 'csv');

SELECT window_start, window_end, COUNT(*) AS bids, MIN(bid_id) AS first_id
FROM TABLE(TUMBLE(TABLE bids, DESCRIPTOR(placed_at), INTERVAL '10' MINUTE))
GROUP BY window_start, window_end;
