-- What the running server makes of its configuration files as they are on disk now
-- (both views parse the files when queried): the errors in pg_hba.conf, the settings it
-- would refuse, and the settings that differ from the running ones but need a restart.
SELECT
  (SELECT coalesce(json_agg(format('pg_hba.conf line %s: %s', line_number, error) ORDER BY line_number), '[]')
     FROM pg_hba_file_rules
    WHERE error IS NOT NULL) AS hba_errors,
  (SELECT coalesce(json_agg(format('%s line %s: %s', f.sourcefile, f.sourceline,
                                   concat_ws(': ', f.name || ' = ' || f.setting, f.error))
                            ORDER BY f.seqno), '[]')
     FROM pg_file_settings AS f LEFT JOIN pg_settings AS s ON s.name = f.name
    WHERE f.error IS NOT NULL
      AND NOT (s.context IS NOT DISTINCT FROM 'postmaster' AND f.error = 'setting could not be applied')) AS setting_errors,
  (SELECT coalesce(json_agg(f.name ORDER BY f.name), '[]')
     FROM pg_file_settings AS f JOIN pg_settings AS s ON s.name = f.name
    WHERE s.context = 'postmaster' AND f.error = 'setting could not be applied') AS restart_settings
