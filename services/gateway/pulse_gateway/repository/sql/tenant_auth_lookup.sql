SELECT set_config('pulse.auth_lookup', 'on', true)
