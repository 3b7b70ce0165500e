-- An inline table with subtotals per shop and a grand total.
SELECT shop, item, SUM(qty) AS total, COUNT(*) AS lines
FROM (VALUES
  ('north', 'apple', 3),
  ('north', 'pear', 1),
  ('north', 'apple', 2),
  ('south', 'apple', 5),
  ('south', 'plum', 4)
) AS sales (shop, item, qty)
GROUP BY ROLLUP (shop, item);
