-- The SQL of one click without batching: mark the impression clicked once, move one failure to a
-- success on its bandit, in one statement. Variables: :first_id, :last_id.
\set t random(:first_id, :last_id)
WITH won AS (
  UPDATE transactions SET clicked = true, clicked_at = now()
   WHERE transaction_id = :t AND NOT clicked RETURNING bandit_id
)
UPDATE bandits b SET number_of_success = number_of_success + 1,
       number_of_failures = number_of_failures - 1, alpha = alpha + 1, beta = beta - 1
  FROM won WHERE b.bandit_id = won.bandit_id;
