// Retention (migration 025): one pruning pass over expired history.
#include <algorithm>
#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <pqxx/pqxx>

#include "persistence/store.hpp"
#include "persistence/store_internal.hpp"

namespace leasehold {

namespace {

// The session lock that elects the one pruning connection. Session level,
// not per transaction: it is held across the pass's batches, so two nodes
// never interleave batches; a pass that dies with its connection frees it.
// The value is arbitrary but fixed forever ("lh-prune").
constexpr int64_t prune_lock_key = 0x6c682d7072756e65;

// A batch never waits long for a row lock: the rows it deletes are ended
// history, locked only by a retry for a moment; if one is held longer, the
// batch gives up (store_busy) and the next pass tries again.
constexpr const char* batch_lock_timeout = "SET LOCAL lock_timeout = '200ms'";

struct cutoffs {
  std::string succeeded, dead, runs, instances, violations, now;
};

using cursor = retention_cursor;

constexpr const char* succeeded_walk = "retention_succeeded_batch";

using clock_type = std::chrono::steady_clock;

class pass {
public:
  // `walks` holds where the last pass stopped; a dry pass starts afresh
  // and leaves them as they were.
  pass(pqxx::connection& conn, std::array<cursor, 6>& walks, const retention_policy& p,
       bool dry)
    : conn_(conn), walks_(walks), policy_(p), dry_(dry), start_(clock_type::now()) {}

  // Every pass does at least one batch, so that passes cut short always
  // get somewhere.
  bool over_budget(const prune_report& out) const {
    return policy_.budget_ms > 0 && out.batches > 0
           && clock_type::now() - start_ >= std::chrono::milliseconds{policy_.budget_ms};
  }

  cutoffs read_cutoffs(pqxx::transaction_base& tx) {
    auto r = tx.exec_prepared1("retention_cutoffs", policy_.succeeded_ms, policy_.dead_ms,
                               policy_.runs_ms, policy_.instances_ms,
                               policy_.violations_ms);
    return {r[0].c_str(), r[1].c_str(), r[2].c_str(),
            r[3].c_str(), r[4].c_str(), r[5].c_str()};
  }

  // One batch of one chain-walking kind; false when the kind is done.
  bool chain_batch(pqxx::transaction_base& tx, const char* statement,
                   const std::string& before, cursor& c, const cutoffs& cut,
                   prune_report& out) {
    // The job_runs walk is keyed by (job id, attempt), the others by age.
    const bool by_key = c.at == "-infinity" && statement == succeeded_walk;
    auto rows = tx.exec_prepared(statement, before, by_key ? "0" : c.at, c.id, policy_.batch);
    if (rows.empty()) {
      c.done = true;
      return false;
    }
    std::vector<std::string> chains;
    chains.reserve(rows.size());
    bool stop = false;
    for (const auto& r : rows) {
      if (!r[0].is_null())
        chains.push_back(r[0].as<std::string>());
      stop = stop || r[3].as<bool>();
    }
    auto gone = tx.exec_prepared1("retention_prune_chains", text_array(chains),
                                  cut.succeeded, cut.dead, cut.runs);
    // Past these rows only once they are dealt with: a batch that failed
    // is tried again by the next pass.
    const auto last = rows[rows.size() - 1];
    c.at = last[1].c_str();
    c.id = last[2].c_str();
    c.done = stop; // walked up to the cutoff
    out.succeeded += gone[0].as<int64_t>();
    out.dead += gone[1].as<int64_t>();
    out.runs += gone[2].as<int64_t>();
    out.attempts += gone[3].as<int64_t>();
    return true;
  }

  // One batch of a plain kind (instances, violations); false when done.
  bool plain_batch(pqxx::transaction_base& tx, const char* statement,
                   const std::string& before, int64_t& count) {
    auto n = tx.exec_prepared1(statement, before, policy_.batch)[0].as<int64_t>();
    count += n;
    return n >= policy_.batch;
  }

  // Every kind, batch after batch, each batch through `each` (which runs
  // it in a transaction); stops at the budget.
  template <class Each>
  void run(const cutoffs& cut, prune_report& out, Each&& each) {
    std::array<cursor, 6> fresh;
    auto& walks = dry_ ? fresh : walks_;
    // A cycle ends when every kind was walked to its end: start over.
    if (std::all_of(walks.begin(), walks.end(), [](const cursor& c) { return c.done; }))
      walks = fresh;
    struct plain_kind {
      const char* statement;
      const std::string& before;
      int64_t& count;
      cursor& c;
    };
    auto walk_plain = [&](const plain_kind& k) {
      if (k.before == "-infinity")
        k.c.done = true;
      while (!k.c.done && !(out.more = over_budget(out)))
        k.c.done = !each([&](pqxx::transaction_base& tx) {
          return plain_batch(tx, k.statement, k.before, k.count);
        });
    };
    // Keys whose window ended first: the jobs they named may go below.
    walk_plain({"retention_unique_keys", cut.now, out.unique_keys, walks[5]});
    struct kind {
      const char* statement;
      const std::string& before;
      cursor& c;
    };
    const kind kinds[] = {{"retention_runs_batch", cut.runs, walks[0]},
                          {succeeded_walk, cut.succeeded, walks[1]},
                          {"retention_dead_batch", cut.dead, walks[2]}};
    for (const auto& k : kinds) {
      if (k.before == "-infinity")
        k.c.done = true;
      while (!k.c.done && !(out.more = over_budget(out)))
        each([&](pqxx::transaction_base& tx) {
          return chain_batch(tx, k.statement, k.before, k.c, cut, out);
        });
    }
    walk_plain({"retention_instances", cut.instances, out.instances, walks[3]});
    walk_plain({"retention_violations", cut.violations, out.violations, walks[4]});
  }

  prune_report go() {
    prune_report out;
    if (dry_) {
      // One transaction, rolled back: later batches see the earlier ones'
      // deletions, so a chain is counted once, as a real pass would.
      pqxx::work tx{conn_};
      tx.exec(batch_lock_timeout);
      const auto cut = read_cutoffs(tx);
      run(cut, out, [&](auto&& batch) {
        ++out.batches;
        return batch(tx);
      });
      tx.abort();
    } else {
      cutoffs cut;
      {
        pqxx::nontransaction tx{conn_};
        cut = read_cutoffs(tx);
      }
      run(cut, out, [&](auto&& batch) {
        const auto began = clock_type::now();
        pqxx::work tx{conn_};
        tx.exec(batch_lock_timeout);
        bool again = batch(tx);
        tx.commit();
        ++out.batches;
        if (again)
          std::this_thread::sleep_for(rest_after(clock_type::now() - began));
        return again;
      });
    }
    out.took_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    clock_type::now() - start_)
                    .count();
    return out;
  }

private:
  // The rest after a batch that took `took`: the pause, or more when the
  // batch took a larger share of the time than the policy allows.
  clock_type::duration rest_after(clock_type::duration took) const {
    const auto share = std::clamp(policy_.share_percent, 1, 100);
    const clock_type::duration pause = std::chrono::milliseconds{policy_.pause_ms};
    return std::max(pause, took * (100 - share) / share);
  }

  pqxx::connection& conn_;
  std::array<cursor, 6>& walks_;
  retention_policy policy_;
  bool dry_;
  clock_type::time_point start_;
};

} // namespace

prune_report store::prune(const retention_policy& policy, bool dry_run) {
  if (policy.batch < 1)
    throw store_invalid_input("retention batch must be at least 1");
  auto& conn = impl_->conn;
  const bool elected = translate_errors("prune_lock", [&] {
    pqxx::nontransaction tx{conn};
    return tx.exec_params1("SELECT pg_try_advisory_lock($1)", prune_lock_key)[0].as<bool>();
  });
  if (!elected)
    return prune_report{};
  auto unlock = [&] {
    pqxx::nontransaction tx{conn};
    tx.exec_params("SELECT pg_advisory_unlock($1)", prune_lock_key);
  };
  try {
    auto out = translate_errors("prune", [&] { return pass{conn, impl_->retention, policy, dry_run}.go(); });
    out.elected = true;
    translate_errors("prune_unlock", [&] {
      unlock();
      return 0;
    });
    return out;
  } catch (const store_unavailable&) {
    throw; // the lock went with the connection
  } catch (...) {
    try {
      unlock();
    } catch (...) { // NOLINT(bugprone-empty-catch): the connection is gone, and the lock with it
    }
    throw;
  }
}

} // namespace leasehold
