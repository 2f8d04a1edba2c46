package dev.watershed.io.http;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.http.HttpHeaders;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each pagination style's next request, from pages as real APIs write them. */
class PaginationTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static Pagination.Page page(String body, Map<String, String> params, String link)
      throws Exception {
    JsonNode tree = JSON.readTree(body);
    List<JsonNode> records = new ArrayList<>();
    JsonNode data = tree.has("data") ? tree.get("data") : tree;
    if (data.isArray()) {
      data.forEach(records::add);
    }
    HttpHeaders headers =
        HttpHeaders.of(
            link == null ? Map.of() : Map.of("Link", List.of(link)), (name, value) -> true);
    return new Pagination.Page(records, tree, headers, new Pagination.Request(params, null));
  }

  @Test
  void linkHeadersFollowRelNextWhereverItStands() {
    assertEquals(
        "https://api.example.com/items?page=3",
        Pagination.LinkHeader.nextLink(
            "<https://api.example.com/items?page=1>; rel=\"first\","
                + " <https://api.example.com/items?page=3>; rel=\"next\""));
    // Several relation types in one link, unquoted rel, other parameters around it.
    assertEquals(
        "/items?cursor=abc",
        Pagination.LinkHeader.nextLink("</items?cursor=abc>; title=\"more\"; rel=\"next last\""));
    assertEquals("/x?p=2", Pagination.LinkHeader.nextLink("</x?p=2>;rel=next"));
    assertEquals("/x?p=2", Pagination.LinkHeader.nextLink("</x?p=2> ; REL = \"Next\""));
    assertNull(Pagination.LinkHeader.nextLink("</x?p=1>; rel=\"prev\", </x?p=9>; rel=\"last\""));
    assertNull(Pagination.LinkHeader.nextLink("</x?p=2>; rel=\"nextish\""));
  }

  @Test
  void cursorsComeFromTheBodyOrTheLastRecordAndStopWhenNothingIsLeft() throws Exception {
    Pagination.Cursor stripe = new Pagination.Cursor("starting_after", null, "id", "/has_more");
    Pagination.Request next =
        stripe.next(
            page("{\"data\":[{\"id\":\"a\"},{\"id\":\"b\"}],\"has_more\":true}", Map.of(), null));
    assertEquals(Map.of("starting_after", "b"), next.params());
    assertNull(stripe.next(page("{\"data\":[{\"id\":\"c\"}],\"has_more\":false}", Map.of(), null)));

    Pagination.Cursor token = new Pagination.Cursor("page_token", "/meta/next", null, null);
    assertEquals(
        Map.of("page_token", "t2"),
        token.next(page("{\"data\":[{}],\"meta\":{\"next\":\"t2\"}}", Map.of(), null)).params());
    assertNull(token.next(page("{\"data\":[{}],\"meta\":{\"next\":null}}", Map.of(), null)));
    assertNull(token.next(page("{\"data\":[{}],\"meta\":{\"next\":\"\"}}", Map.of(), null)));
    assertNull(token.next(page("{\"data\":[],\"meta\":{\"next\":\"t3\"}}", Map.of(), null)));
  }

  @Test
  void pageNumbersAndOffsetsStopAtAShortPageOrTheTotal() throws Exception {
    Pagination.PageNumber pages = new Pagination.PageNumber("page", 1, "per_page", 2, "/total");
    assertEquals(
        "2",
        pages
            .next(
                page("{\"data\":[{},{}],\"total\":5}", Map.of("page", "1", "per_page", "2"), null))
            .params()
            .get("page"));
    assertNull(
        pages.next(
            page("{\"data\":[{},{}],\"total\":4}", Map.of("page", "2", "per_page", "2"), null)),
        "page 2 of 2 reaches the total");
    assertNull(pages.next(page("{\"data\":[{}],\"total\":9}", Map.of("page", "3"), null)));

    Pagination.Offset offsets = new Pagination.Offset("offset", "limit", 2, null);
    assertEquals(
        "4",
        offsets
            .next(page("{\"data\":[{},{}]}", Map.of("offset", "2", "limit", "2"), null))
            .params()
            .get("offset"));
    assertNull(offsets.next(page("{\"data\":[{}]}", Map.of("offset", "4", "limit", "2"), null)));
  }
}
