c.id, c.client_id, (SELECT cl.name FROM catalog.clients cl
        WHERE cl.org_id = c.org_id AND cl.id = c.client_id) AS client_name,
       c.name, c.status, c.start_date, c.end_date, c.budget_cents, c.currency, c.committed_views,
       c.committed_engagement, c.notes, c.created_at, c.updated_at
