DELETE FROM reporter.files WHERE expires_at <= $1
