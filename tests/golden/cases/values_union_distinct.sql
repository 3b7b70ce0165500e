-- UNION removes duplicates across and within its inputs; UNION ALL inside keeps them.
WITH morning (name) AS (VALUES ('ann'), ('bob'), ('ann')),
     evening (name) AS (VALUES ('bob'), ('cat'))
SELECT name FROM morning
UNION
SELECT name FROM (SELECT name FROM evening UNION ALL SELECT 'dan' AS name);
