-- daily, platforms, influencers and forecast come as JSON text, serialized by pydantic.
INSERT INTO share.campaigns
    (campaign_id, org_id, name, status, start_date, end_date,
     client_name, client_brand_color, client_logo_url,
     committed_views, committed_engagement, committed_posts,
     actual_views, actual_engagement, actual_posts,
     views_pct, engagement_pct, posts_pct, kpi_pct, engagement_rate, timeline_pct,
     daily, platforms, influencers, numbers_as_of, generated_at, forecast)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
        $20, $21, $22::text::jsonb, $23::text::jsonb, $24::text::jsonb, $25, $26,
        $27::text::jsonb)
ON CONFLICT (campaign_id) DO UPDATE
SET org_id = excluded.org_id, name = excluded.name, status = excluded.status,
    start_date = excluded.start_date, end_date = excluded.end_date,
    client_name = excluded.client_name, client_brand_color = excluded.client_brand_color,
    client_logo_url = excluded.client_logo_url,
    committed_views = excluded.committed_views,
    committed_engagement = excluded.committed_engagement,
    committed_posts = excluded.committed_posts,
    actual_views = excluded.actual_views, actual_engagement = excluded.actual_engagement,
    actual_posts = excluded.actual_posts,
    views_pct = excluded.views_pct, engagement_pct = excluded.engagement_pct,
    posts_pct = excluded.posts_pct, kpi_pct = excluded.kpi_pct,
    engagement_rate = excluded.engagement_rate, timeline_pct = excluded.timeline_pct,
    daily = excluded.daily, platforms = excluded.platforms, influencers = excluded.influencers,
    numbers_as_of = excluded.numbers_as_of, generated_at = excluded.generated_at,
    forecast = excluded.forecast
