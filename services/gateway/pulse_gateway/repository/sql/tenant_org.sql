SELECT set_config('pulse.org_id', $1, true)
