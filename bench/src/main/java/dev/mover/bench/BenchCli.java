package dev.mover.bench;

import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code ./mover bench <name> [args...]}: dispatches to one benchmark. Each benchmark is a class with
 * {@code public static int run(String[] args) throws Exception}.
 */
public final class BenchCli {
    private static final Map<String, String> BENCHES = new LinkedHashMap<>();
    static {
        BENCHES.put("encoder", "dev.mover.bench.encoder.EncoderBench");
        BENCHES.put("rescore", "dev.mover.bench.rescore.RescoreBench");
    }

    private BenchCli() {}

    public static int run(String[] args) throws Exception {
        if (args.length == 0 || !BENCHES.containsKey(args[0])) {
            System.err.println("usage: mover bench <" + String.join("|", BENCHES.keySet()) + "> [args...]");
            System.err.println("  encoder   tokens/s of the encoder vs a bare ONNX Runtime session, codec bytes/token,"
                + " WRD error of int8/int4 storage (--help for options)");
            System.err.println("  rescore   end-to-end search latency of BM25 + mover rescoring on a real node beside POT on the"
                + " same pairs, pruning share (--help for options)");
            return 2;
        }
        Class<?> cls = Class.forName(BENCHES.get(args[0]));
        Method run = cls.getMethod("run", String[].class);
        return (int) run.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
    }
}
