#include "persistence/migrations.hpp"

#include "persistence/migration_texts.hpp"

namespace leasehold {

const std::vector<migration>& all_migrations() {
  static const std::vector<migration> list = {
    {1, "initial", migration_sql::m001_initial},
    {2, "worker_instances", migration_sql::m002_worker_instances},
    {3, "observer_indexes", migration_sql::m003_observer_indexes},
    {4, "runs", migration_sql::m004_runs},
    {5, "hot_renewals", migration_sql::m005_hot_renewals},
    {6, "run_progress", migration_sql::m006_run_progress},
    {7, "claim_without_fk_check", migration_sql::m007_claim_without_fk_check},
    {8, "correlation_index_skips_running",
     migration_sql::m008_correlation_index_skips_running},
    {9, "runs_written_once", migration_sql::m009_runs_written_once},
    {10, "one_queued_observer_index",
     migration_sql::m010_one_queued_observer_index},
    {11, "succeeded_jobs_leave_the_hot_table",
     migration_sql::m011_succeeded_jobs_leave_the_hot_table},
    {12, "claim_index_carries_type", migration_sql::m012_claim_index_carries_type},
    {13, "run_check_only_for_run_jobs", migration_sql::m013_run_check_only_for_run_jobs},
    {14, "plain_jobs_store_no_correlation",
     migration_sql::m014_plain_jobs_store_no_correlation},
    {15, "fair_liveness", migration_sql::m015_fair_liveness},
    {16, "job_runs_by_finish_time", migration_sql::m016_job_runs_by_finish_time},
    {17, "unique_jobs", migration_sql::m017_unique_jobs},
    {18, "schedules", migration_sql::m018_schedules},
    {19, "snooze", migration_sql::m019_snooze},
    {20, "output_and_progress", migration_sql::m020_output_and_progress},
    {21, "queue_pause", migration_sql::m021_queue_pause},
    {22, "queue_concurrency", migration_sql::m022_queue_concurrency},
    {23, "concurrency_keys", migration_sql::m023_concurrency_keys},
    {24, "queue_rate_limits", migration_sql::m024_queue_rate_limits},
    {25, "retention", migration_sql::m025_retention},
    {26, "unique_key_windows", migration_sql::m026_unique_key_windows},
    {27, "cluster_drain", migration_sql::m027_cluster_drain},
  };
  return list;
}

} // namespace leasehold
