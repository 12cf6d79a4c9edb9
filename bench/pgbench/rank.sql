-- The SQL of one rank without batching: three impressions and three counter updates in one
-- transaction, bandits updated one by one in id order (so clients never deadlock): deals
-- 0, 2, 4 or 1, 3, 5 of six. Variables: :project, :first_bandit, :customers.
\set c random(1, :customers)
\set b1 :first_bandit + random(0, 1)
\set b2 :b1 + 2
\set b3 :b1 + 4
BEGIN;
INSERT INTO transactions (customer_id, project_id, bandit_id, "timestamp", clicked, position)
VALUES (:c, :project, :b1, now(), false, 1), (:c, :project, :b2, now(), false, 2),
       (:c, :project, :b3, now(), false, 3) RETURNING transaction_id;
UPDATE bandits SET n = n + 1, number_of_failures = number_of_failures + 1, beta = beta + 1
 WHERE bandit_id = :b1;
UPDATE bandits SET n = n + 1, number_of_failures = number_of_failures + 1, beta = beta + 1
 WHERE bandit_id = :b2;
UPDATE bandits SET n = n + 1, number_of_failures = number_of_failures + 1, beta = beta + 1
 WHERE bandit_id = :b3;
END;
