DELETE FROM catalog.sessions WHERE id = $1
