-- Hour-long windows every half hour, per sales channel.
CREATE TABLE bids (
  bid_id BIGINT,
  placed_at TIMESTAMP(3),
  item STRING,
  bidder STRING,
  price DOUBLE,
  channel STRING,
  WATERMARK FOR placed_at AS placed_at - INTERVAL '10' MINUTE
) WITH ('connector' = 'filesystem', 'path' = 'bids.csv', 'format' = 'csv');

SELECT channel, window_start, window_end, COUNT(*) AS bids, AVG(price) AS mean_price
FROM TABLE(HOP(TABLE bids, DESCRIPTOR(placed_at), INTERVAL '30' MINUTE, INTERVAL '1' HOUR))
GROUP BY channel, window_start, window_end;
