-- The report page of examples.db (segment_report), as make demo, make
-- screenshot and test/chart.sh write it: to the file named by :out
-- (.parameter set :out 'FILE'), with the engagement section (events) and
-- the model checked on the last six months (calibration_end).
SELECT writefile(:out, html)
FROM segment_report('orders', 'events=events', 'calibration_end=2025-06-30');
