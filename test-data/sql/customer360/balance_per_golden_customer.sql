{{ config(materialized='table') }}
-- Accounts and their balance per golden customer and currency: what each person holds in
-- billing, whichever system knew them first.
SELECT x.golden_id,
       a.currency,
       COUNT(*) AS accounts,
       SUM(a.balance) AS balance
FROM {{ ref('account') }} a
JOIN {{ ref('customer_crosswalk') }} x ON x.source_id = a.account_id
GROUP BY x.golden_id, a.currency
