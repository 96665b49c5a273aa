SELECT id, display_name, handles FROM alerter.influencers WHERE id = ANY ($1::uuid[])
