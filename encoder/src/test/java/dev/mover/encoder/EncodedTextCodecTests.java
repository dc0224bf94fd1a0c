package dev.mover.encoder;

import dev.mover.scoring.codec.TokenVectorCodec;
import dev.mover.scoring.codec.TokenVectorCodec.Decoded;
import dev.mover.scoring.codec.TokenVectorCodec.Encoding;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The codec on real encoder output; the format itself is tested in mover-scoring ({@code TokenVectorCodecTests}). */
class EncodedTextCodecTests {

    @Test
    void testRoundTrip_whenRealEncoderOutput_thenOffsetsAndFingerprintKept() {
        try (TextEncoder enc = TextEncoder.open(TestModels.model(TestModels.MINILM), EncoderConfig.defaults())) {
            EncodedText t = enc.encode("The quick brown fox jumps over the lazy dog, twice.");
            byte[] b = EncodedTextCodec.encode(t, Encoding.INT8, enc.fingerprint());
            assertArrayEquals(TokenVectorCodec.encode(t.vectors(), t.dims(), t.starts(), t.ends(), Encoding.INT8, enc.fingerprint()), b);
            Decoded d = TokenVectorCodec.decode(b, 0, b.length);
            assertEquals(enc.fingerprint(), d.fingerprint());
            assertArrayEquals(t.starts(), d.starts());
            assertArrayEquals(t.ends(), d.ends());
            double bytesPerToken = (double) b.length / t.tokens();
            assertTrue(bytesPerToken < 384 + 4 + 4 + 3, "bytes/token " + bytesPerToken);
            for (int i = 0; i < t.tokens(); i++) {
                double cos = cosine(t.vectors(), d.vectors(), i * 384, 384);
                assertTrue(cos > 0.9999, "token " + i + " cosine " + cos);
            }
        }
    }

    private static double cosine(float[] a, float[] b, int off, int dims) {
        double ab = 0;
        double aa = 0;
        double bb = 0;
        for (int k = off; k < off + dims; k++) {
            ab += a[k] * b[k];
            aa += a[k] * a[k];
            bb += b[k] * b[k];
        }
        return ab / Math.sqrt(aa * bb);
    }
}
