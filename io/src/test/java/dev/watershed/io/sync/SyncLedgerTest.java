package dev.watershed.io.sync;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.watershed.io.jdbc.Databases;
import dev.watershed.io.jdbc.JdbcEndpoint;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The sync ledger in each database it can live in: entries recorded, replaced and removed. */
class SyncLedgerTest {
  @TempDir Path folder;

  private static Map<String, String> read(SyncLedger ledger) throws Exception {
    Map<String, String> out = new TreeMap<>();
    ledger.read(entry -> out.put(entry.keyText(), entry.hash() + " " + entry.keyJson()));
    return out;
  }

  @ParameterizedTest
  @ValueSource(strings = {"postgres", "mariadb", "duckdb"})
  void entriesAreRecordedReplacedAndRemovedPerDestination(String database) throws Exception {
    JdbcEndpoint endpoint = Databases.named(database, folder);
    Databases.execute(endpoint, "DROP TABLE IF EXISTS " + SyncLedger.TABLE);
    SyncLedger crm = new SyncLedger(endpoint, "p", "crm", "customer");
    SyncLedger ops = new SyncLedger(endpoint, "p", "ops", "customer");
    assertEquals(Map.of(), read(crm), "a new ledger is empty");

    // More keys than one statement takes.
    List<SyncLedger.Entry> first = new ArrayList<>();
    for (int id = 1; id <= SyncLedger.CHUNK + 7; id++) {
      first.add(new SyncLedger.Entry(String.valueOf(id), "{\"id\":\"" + id + "\"}", "h" + id));
    }
    crm.record(first, List.of());
    ops.record(List.of(new SyncLedger.Entry("1", "{\"id\":\"1\"}", "other")), List.of());
    assertEquals(SyncLedger.CHUNK + 7, read(crm).size());

    // Key 2 changed, key 3 removed, key 1 unchanged: the other destination's entry stays.
    crm.record(List.of(new SyncLedger.Entry("2", "{\"id\":\"2\"}", "h2b")), List.of("3"));
    Map<String, String> now = read(crm);
    assertEquals(SyncLedger.CHUNK + 6, now.size());
    assertEquals("h1 {\"id\":\"1\"}", now.get("1"));
    assertEquals("h2b {\"id\":\"2\"}", now.get("2"));
    assertEquals(null, now.get("3"));
    assertEquals(Map.of("1", "other {\"id\":\"1\"}"), read(ops));
  }
}
