package dev.watershed.io.jdbc;

import java.math.BigDecimal;
import java.math.BigInteger;

/**
 * PostgreSQL's binary form of {@code numeric}: the digit count, the weight of the first digit, the
 * sign and the display scale, as 16-bit integers, then the digits in base 10,000, most significant
 * first, with no trailing zero digits. The decimal point falls between two base-10,000 digits, so
 * the fraction is padded to a multiple of four decimal places first.
 */
final class PostgresNumeric {
  private static final BigInteger TEN_THOUSAND = BigInteger.valueOf(10_000);
  private static final long[] POWERS = {1, 10, 100, 1000};
  private static final int POSITIVE = 0x0000;
  private static final int NEGATIVE = 0x4000;

  /** The digits of the value being written, reused from value to value. */
  private short[] digits = new short[16];

  /** Writes the value's length in bytes, then the value. */
  void write(CopyBuffer out, BigDecimal value) {
    if (value.scale() < 0) {
      value = value.setScale(0);
    }
    int scale = value.scale();
    int pad = (4 - scale % 4) % 4;
    int fractionDigits = (scale + pad) / 4;
    BigInteger unscaled = value.unscaledValue();
    // Least significant base-10,000 digit first.
    int most = (unscaled.bitLength() * 31 / 100 + 1 + pad) / 4 + 2;
    if (digits.length < most) {
      digits = new short[most];
    }
    short[] digits = this.digits;
    int count = 0;
    if (unscaled.bitLength() < 52) {
      long rest = Math.abs(unscaled.longValue()) * POWERS[pad];
      while (rest != 0) {
        digits[count++] = (short) (rest % 10_000);
        rest /= 10_000;
      }
    } else {
      BigInteger rest = unscaled.abs().multiply(BigInteger.valueOf(POWERS[pad]));
      while (rest.signum() != 0) {
        BigInteger[] quotientAndRemainder = rest.divideAndRemainder(TEN_THOUSAND);
        digits[count++] = quotientAndRemainder[1].shortValue();
        rest = quotientAndRemainder[0];
      }
    }
    int lowest = 0;
    while (lowest < count && digits[lowest] == 0) {
      lowest++;
    }
    int written = count - lowest;
    int weight = written == 0 ? 0 : count - 1 - fractionDigits;
    out.putInt(8 + 2 * written)
        .putShort(written)
        .putShort(weight)
        .putShort(unscaled.signum() < 0 ? NEGATIVE : POSITIVE)
        .putShort(scale);
    for (int i = count - 1; i >= lowest; i--) {
      out.putShort(digits[i]);
    }
  }
}
