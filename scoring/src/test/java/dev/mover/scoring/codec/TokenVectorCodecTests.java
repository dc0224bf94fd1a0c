package dev.mover.scoring.codec;

import dev.mover.scoring.codec.TokenVectorCodec.Decoded;
import dev.mover.scoring.codec.TokenVectorCodec.Encoding;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenVectorCodecTests {

    /** One text's token vectors and offsets, as an encoder would hand them over. */
    private record Sample(int dims, float[] vectors, int[] starts, int[] ends) {
        int tokens() {
            return starts.length;
        }
    }

    private static byte[] encode(Sample t, Encoding enc, long fingerprint) {
        return TokenVectorCodec.encode(t.vectors(), t.dims(), t.starts(), t.ends(), enc, fingerprint);
    }

    private static Sample random(Random r, int n, int dims) {
        float[] v = new float[n * dims];
        for (int i = 0; i < v.length; i++) {
            v[i] = (float) (r.nextGaussian() * (1 + (i / dims) % 3));
        }
        int[] starts = new int[n];
        int[] ends = new int[n];
        int pos = 0;
        for (int t = 0; t < n; t++) {
            pos += r.nextInt(3);
            starts[t] = pos;
            ends[t] = pos + 1 + r.nextInt(200);
            pos = ends[t];
        }
        return new Sample(dims, v, starts, ends);
    }

    @Test
    void testRoundTrip_whenFloat32_thenExact() {
        Random r = new Random(1);
        for (int dims : new int[] {1, 7, 384, 512}) {
            Sample t = random(r, 13, dims);
            byte[] b = encode(t, Encoding.FLOAT32, 0x1234_5678_9ABC_DEF0L);
            Decoded d = TokenVectorCodec.decode(b, 0, b.length);
            assertEquals(Encoding.FLOAT32, d.encoding());
            assertEquals(dims, d.dims());
            assertEquals(13, d.tokens());
            assertEquals(0x1234_5678_9ABC_DEF0L, d.fingerprint());
            assertArrayEquals(t.vectors(), d.vectors());
            assertArrayEquals(t.starts(), d.starts());
            assertArrayEquals(t.ends(), d.ends());
        }
    }

    @Test
    void testRoundTrip_whenInt8OrInt4_thenErrorWithinHalfAStep() {
        Random r = new Random(2);
        for (Encoding enc : new Encoding[] {Encoding.INT8, Encoding.INT4}) {
            int levels = enc == Encoding.INT8 ? 127 : 7;
            for (int dims : new int[] {1, 5, 384}) {
                Sample t = random(r, 9, dims);
                byte[] b = encode(t, enc, -1L);
                assertEquals(TokenVectorCodec.HEADER_BYTES + 9 * enc.stride(dims) + 4, b.length - offsetBytes(t));
                Decoded d = TokenVectorCodec.decode(b, 0, b.length);
                assertEquals(-1L, d.fingerprint());
                assertArrayEquals(t.starts(), d.starts());
                assertArrayEquals(t.ends(), d.ends());
                for (int tok = 0; tok < 9; tok++) {
                    float max = 0;
                    for (int k = 0; k < dims; k++) {
                        max = Math.max(max, Math.abs(t.vectors()[tok * dims + k]));
                    }
                    float step = max / levels;
                    for (int k = 0; k < dims; k++) {
                        float err = Math.abs(t.vectors()[tok * dims + k] - d.vectors()[tok * dims + k]);
                        assertTrue(err <= step / 2 + 1e-6f, enc + " err " + err + " step " + step);
                    }
                }
            }
        }
    }

    private static int offsetBytes(Sample t) {
        int n = 0;
        int prev = 0;
        for (int i = 0; i < t.tokens(); i++) {
            n += varintLen(((t.starts()[i] - prev) << 1) ^ ((t.starts()[i] - prev) >> 31));
            n += varintLen(t.ends()[i] - t.starts()[i]);
            prev = t.starts()[i];
        }
        return n;
    }

    private static int varintLen(int v) {
        int n = 1;
        while ((v & ~0x7F) != 0) {
            v >>>= 7;
            n++;
        }
        return n;
    }

    @Test
    void testRoundTrip_whenZeroTokensOrZeroVector_thenDecodes() {
        Sample empty = new Sample(384, new float[0], new int[0], new int[0]);
        for (Encoding enc : Encoding.values()) {
            byte[] b = encode(empty, enc, 7L);
            Decoded d = TokenVectorCodec.decode(b, 0, b.length);
            assertEquals(0, d.tokens());
            assertEquals(384, d.dims());
            Sample zero = new Sample(3, new float[3], new int[] {0}, new int[] {0});
            b = encode(zero, enc, 7L);
            assertArrayEquals(new float[3], TokenVectorCodec.decode(b, 0, b.length).vectors());
        }
    }

    @Test
    void testDecode_whenNonZeroOffset_thenReadsOnlyItsRange() {
        Sample t = random(new Random(3), 4, 16);
        byte[] b = encode(t, Encoding.INT8, 42L);
        byte[] padded = new byte[b.length + 17];
        Arrays.fill(padded, (byte) 0x5A);
        System.arraycopy(b, 0, padded, 11, b.length);
        Decoded d = TokenVectorCodec.decode(padded, 11, b.length);
        assertArrayEquals(TokenVectorCodec.decode(b, 0, b.length).vectors(), d.vectors());
        assertArrayEquals(t.starts(), d.starts());
    }

    /** Rewrites the trailing checksum so that structural checks behind it are reached. */
    private static byte[] reseal(byte[] b) {
        CRC32C crc = new CRC32C();
        crc.update(b, 0, b.length - 4);
        int v = (int) crc.getValue();
        for (int i = 0; i < 4; i++) {
            b[b.length - 4 + i] = (byte) (v >>> (8 * i));
        }
        return b;
    }

    private static String decodeError(byte[] b) {
        return assertThrows(IllegalArgumentException.class, () -> TokenVectorCodec.decode(b, 0, b.length)).getMessage();
    }

    @Test
    void testDecode_whenTruncatedAnywhere_thenRejected() {
        for (Encoding enc : Encoding.values()) {
            byte[] b = encode(random(new Random(4), 5, 6), enc, 1L);
            for (int len = 0; len < b.length; len++) {
                int l = len;
                assertThrows(IllegalArgumentException.class, () -> TokenVectorCodec.decode(b, 0, l), enc + " len " + len);
            }
        }
        byte[] b = encode(random(new Random(4), 5, 6), Encoding.INT8, 1L);
        assertEquals("[mover] token vectors are truncated: [10] bytes, the header alone needs [24]",
            decodeError(Arrays.copyOf(b, 10)));
    }

    @Test
    void testDecode_whenAnyByteFlipped_thenRejected() {
        byte[] b = encode(random(new Random(5), 5, 6), Encoding.INT8, 1L);
        for (int i = 0; i < b.length; i++) {
            byte[] c = b.clone();
            c[i] ^= 0x10;
            assertThrows(IllegalArgumentException.class, () -> TokenVectorCodec.decode(c, 0, c.length), "byte " + i);
        }
        byte[] c = b.clone();
        c[TokenVectorCodec.HEADER_BYTES + 5] ^= 1;
        assertEquals("[mover] token vectors are corrupt: checksum mismatch", decodeError(c));
    }

    @Test
    void testDecode_whenHeaderFieldsBad_thenNamedError() {
        byte[] b = encode(random(new Random(6), 3, 4), Encoding.INT8, 1L);
        byte[] c = b.clone();
        c[0] = 'X';
        assertEquals("[mover] token vectors: bad magic, not a Mover token-vector value", decodeError(c));
        c = b.clone();
        c[4] = 9;
        assertEquals("[mover] token vectors: unsupported version [9], this build reads [1]", decodeError(c));
        c = b.clone();
        c[5] = 7;
        assertEquals("[mover] token vectors: unknown encoding [7]", decodeError(c));
        c = b.clone();
        c[6] = 0;
        c[7] = 0;
        assertEquals("[mover] token vectors: dims [0] is invalid", decodeError(reseal(c)));
        c = b.clone();
        c[8] = 100; // 100 tokens claimed, 3 stored
        assertTrue(decodeError(reseal(c)).startsWith("[mover] token vectors are truncated: ["), decodeError(reseal(c)));
        c = b.clone();
        c[11] = (byte) 0x80; // 2^31 tokens
        assertEquals("[mover] token vectors: token count [2147483651] is above the maximum [1048576]", decodeError(reseal(c)));
    }

    @Test
    void testDecode_whenLengthMismatchOrBadPayload_thenNamedError() {
        byte[] b = encode(random(new Random(7), 3, 4), Encoding.INT8, 1L);
        byte[] longer = Arrays.copyOf(b, b.length + 3);
        System.arraycopy(b, b.length - 4, longer, b.length - 4, 4);
        longer[b.length - 4] = 0; // three extra offset-area bytes (a valid varint each), then the checksum
        longer[b.length - 3] = 0;
        longer[b.length - 2] = 0;
        assertEquals("[mover] token vectors: length mismatch, [3] unexpected bytes after the offsets", decodeError(reseal(longer)));
        byte[] c = b.clone();
        c[TokenVectorCodec.HEADER_BYTES + 4] = (byte) 0x80; // int8 code -128 is never written
        assertEquals("[mover] token vectors are corrupt: int8 code [-128] in token [0]", decodeError(reseal(c)));
        c = b.clone();
        c[TokenVectorCodec.HEADER_BYTES + 3] = (byte) 0xFF; // scale becomes NaN
        assertTrue(decodeError(reseal(c)).startsWith("[mover] token vectors are corrupt: scale [NaN] of token [0]"));
        byte[] i4 = encode(random(new Random(8), 2, 3), Encoding.INT4, 1L);
        c = i4.clone();
        c[TokenVectorCodec.HEADER_BYTES + 5] |= (byte) 0xF0; // the pad nibble of odd dims must be zero
        assertTrue(decodeError(reseal(c)).startsWith("[mover] token vectors are corrupt: bad int4 codes"));
    }

    @Test
    void testEncode_whenInputInvalid_thenNamedError() {
        float[] v = {1f, Float.NaN};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
            () -> TokenVectorCodec.encode(v, 2, new int[] {0}, new int[] {1}, Encoding.INT8, 0));
        assertEquals("[mover] component [1] of token [0] is not finite [NaN]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
            () -> TokenVectorCodec.encode(new float[2], 2, new int[] {5}, new int[] {4}, Encoding.INT8, 0));
        assertEquals("[mover] token [0] has bad offsets [5, 4]", e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
            () -> TokenVectorCodec.encode(new float[3], 2, new int[] {0}, new int[] {1}, Encoding.INT8, 0));
        assertEquals("[mover] sizes disagree: starts [1], ends [1], vectors [3] for dims [2]", e.getMessage());
        assertEquals(Encoding.INT4, Encoding.parse("int4"));
        e = assertThrows(IllegalArgumentException.class, () -> Encoding.parse("int2"));
        assertEquals("[mover] encoding must be one of [float32, int8, int4] but was [int2]", e.getMessage());
    }

    @Test
    void testStartsWithMagic_whenBareOrWrappedOrShort_thenOnlyBareAtItsOffset() {
        byte[] b = encode(random(new Random(9), 2, 3), Encoding.INT8, 1L);
        assertTrue(TokenVectorCodec.startsWithMagic(b, 0, b.length));
        byte[] wrapped = new byte[b.length + 3];
        wrapped[0] = 1;
        wrapped[1] = (byte) (0x80 | (b.length & 0x7F));
        wrapped[2] = (byte) (b.length >>> 7);
        System.arraycopy(b, 0, wrapped, 3, b.length);
        assertEquals(false, TokenVectorCodec.startsWithMagic(wrapped, 0, wrapped.length));
        assertTrue(TokenVectorCodec.startsWithMagic(wrapped, 3, b.length));
        assertEquals(false, TokenVectorCodec.startsWithMagic(b, 0, 3));
        assertEquals(false, TokenVectorCodec.startsWithMagic(b, b.length - 2, 4));
        assertEquals(false, TokenVectorCodec.startsWithMagic(null, 0, 4));
    }

    @Test
    void testFinite_whenScaleCanOverflow_thenNotProvenAndMatrixRejectsIt() {
        Sample t = random(new Random(5), 3, 8);
        for (Encoding enc : Encoding.values()) {
            Decoded ok = TokenVectorCodec.decode(encode(t, enc, 1L), 0, encode(t, enc, 1L).length);
            assertTrue(ok.finite(), enc + " value of ordinary vectors must be proven finite");
            assertEquals(3, dev.mover.scoring.TokenMatrix.of(ok).rows());
        }
        for (Encoding enc : new Encoding[] {Encoding.INT8, Encoding.INT4}) {
            byte[] b = encode(t, enc, 1L);
            // token 1's scale becomes the largest float: its largest code overflows to infinity when dequantised
            int p = TokenVectorCodec.HEADER_BYTES + enc.stride(8);
            int bits = Float.floatToIntBits(Float.MAX_VALUE);
            for (int i = 0; i < 4; i++) {
                b[p + i] = (byte) (bits >>> (8 * i));
            }
            Decoded d = TokenVectorCodec.decode(reseal(b), 0, b.length);
            assertEquals(false, d.finite(), enc.toString());
            String msg = assertThrows(IllegalArgumentException.class, () -> dev.mover.scoring.TokenMatrix.of(d)).getMessage();
            assertTrue(msg.contains("token [1]") && msg.contains("not finite"), msg);
        }
    }
}
