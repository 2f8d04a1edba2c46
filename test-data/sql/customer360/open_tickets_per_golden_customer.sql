-- Open support tickets per golden customer (a view: always as fresh as the tables).
SELECT x.golden_id,
       COUNT(*) AS open_tickets
FROM {{ ref('ticket') }} t
JOIN {{ ref('customer_crosswalk') }} x ON x.source_id = t.ticket_id
WHERE t.status = 'open'
GROUP BY x.golden_id
