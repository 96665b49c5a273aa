SELECT name, status, start_date, end_date,
       client_name, client_brand_color, client_logo_url,
       committed_views, committed_engagement, committed_posts,
       actual_views, actual_engagement, actual_posts,
       views_pct, engagement_pct, posts_pct, kpi_pct, engagement_rate, timeline_pct,
       daily, platforms, influencers, numbers_as_of, generated_at, forecast
FROM share.campaigns
WHERE campaign_id = $1 AND org_id = $2
