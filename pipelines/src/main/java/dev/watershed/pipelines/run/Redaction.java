package dev.watershed.pipelines.run;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArraySet;

/**
 * Keeps secrets out of everything the command line prints: standard output, standard error and
 * therefore logs. Installed before anything else runs; secrets are added as the spec is read.
 */
public final class Redaction {
  public static final String MASK = "*****";
  private static final Set<String> SECRETS = new CopyOnWriteArraySet<>();

  private Redaction() {}

  public static void install() {
    System.setOut(new RedactingStream(System.out));
    System.setErr(new RedactingStream(System.err));
  }

  /**
   * Masks these values from now on, whatever their length: a short secret is still a secret (the
   * mask may then hide ordinary text too, which is the lesser harm).
   */
  public static void add(Set<String> secrets) {
    for (String secret : secrets) {
      if (!secret.isEmpty()) {
        SECRETS.add(secret);
      }
    }
  }

  /**
   * {@code text} with every secret masked, longest first (so a secret that contains another is
   * masked whole), and with the password of any URL's user info ({@code //user:pw@}) or {@code
   * password=} parameter masked even when it was written in the spec as plain text.
   */
  public static String redact(String text) {
    if (text == null) {
      return null;
    }
    String out = text;
    List<String> secrets = new ArrayList<>(SECRETS);
    secrets.sort(Comparator.comparingInt(String::length).reversed());
    for (String secret : secrets) {
      out = out.replace(secret, MASK);
    }
    return withoutCredentials(out);
  }

  /** A URL's password (in its user info or a password parameter) replaced by the mask. */
  public static String withoutCredentials(String text) {
    return text.replaceAll("(//[^/:@\\s]*:)[^@/\\s]+@", "$1" + MASK + "@")
        .replaceAll("(?i)(password=)[^&;\\s'\"]+", "$1" + MASK);
  }

  /** A print stream that redacts whole lines before passing them on. */
  private static final class RedactingStream extends PrintStream {
    private final PrintStream target;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();

    RedactingStream(PrintStream target) {
      super(OutputStream.nullOutputStream(), true, StandardCharsets.UTF_8);
      this.target = target;
    }

    @Override
    public synchronized void write(int b) {
      line.write(b);
      if (b == '\n') {
        emit();
      }
    }

    @Override
    public synchronized void write(byte[] buf, int off, int len) {
      // A newline byte never occurs inside a multi-byte UTF-8 character, so lines split cleanly.
      for (int i = off; i < off + len; i++) {
        write(buf[i]);
      }
    }

    private void emit() {
      target.print(redact(line.toString(StandardCharsets.UTF_8)));
      line.reset();
    }

    @Override
    public synchronized void flush() {
      if (line.size() > 0) {
        emit();
      }
      target.flush();
    }

    @Override
    public void print(String s) {
      byte[] bytes = String.valueOf(s).getBytes(StandardCharsets.UTF_8);
      write(bytes, 0, bytes.length);
    }

    @Override
    public void println(String s) {
      print(s + System.lineSeparator());
      flush();
    }

    @Override
    public void println(Object o) {
      println(String.valueOf(o));
    }

    @Override
    public void println() {
      print(System.lineSeparator());
      flush();
    }
  }
}
