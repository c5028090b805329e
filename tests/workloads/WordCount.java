// WordCount.java - a small map-reduce word count, the job of t-job.sh: a
// driver JVM and worker JVMs (its children: one tree) that talk over TCP
// on 127.0.0.1, read a large input, write spill files and partial
// outputs, all kept open while they work (ckpt attach --snapshot-open
// takes them).  Run in D (the current directory):
//
//   java WordCount gen FILE MIB         a deterministic input of MIB MiB
//   java WordCount driver FILE WORKERS  the job; D/output.txt at the end
//
// The driver listens on an ephemeral port, starts WORKERS workers
// (java WordCount worker FILE W WORKERS PORT), each of which maps the
// lines starting in its W-th of FILE: it counts words, appends its counts
// to spill-W.txt every SPILL lines, and halfway stops and creates
// paused-W until D/resume exists (so that the test checkpoints it in the
// middle of the map whatever the machine's load).  At the end a worker
// sums its spill into part-W.txt and says "done W"; the driver, once all
// are done, merges the parts into output.txt ("word count", sorted) and
// exits 0.  D/ready holds the driver's PID once every worker said hello.
import java.io.*;
import java.net.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.util.*;

public class WordCount {
    static final int SPILL = 20000;

    public static void main(String[] a) throws Exception {
        switch (a[0]) {
        case "gen": gen(a[1], Integer.parseInt(a[2])); break;
        case "driver": driver(a[1], Integer.parseInt(a[2])); break;
        case "worker": worker(a[1], Integer.parseInt(a[2]),
                              Integer.parseInt(a[3]),
                              Integer.parseInt(a[4])); break;
        default: throw new IllegalArgumentException(a[0]);
        }
    }

    // words w0 .. w4999, skewed, ten to a line, from a fixed seed
    static void gen(String file, int mib) throws IOException {
        Random r = new Random(17);
        long want = (long) mib << 20, n = 0;
        try (Writer w = new BufferedWriter(new OutputStreamWriter(
                new FileOutputStream(file), StandardCharsets.US_ASCII),
                1 << 20)) {
            StringBuilder sb = new StringBuilder();
            while (n < want) {
                sb.setLength(0);
                for (int i = 0; i < 10; i++) {
                    int k = (int) (Math.abs(r.nextGaussian()) * 1200) % 5000;
                    sb.append(i == 0 ? "" : " ").append('w').append(k);
                }
                sb.append('\n');
                w.write(sb.toString());
                n += sb.length();
            }
        }
    }

    static void driver(String file, int nw) throws Exception {
        Writer out = new FileWriter("output.txt");
        ServerSocket ss = new ServerSocket(0, 16,
                InetAddress.getByName("127.0.0.1"));
        List<Process> procs = new ArrayList<>();
        String java = ProcessHandle.current().info().command().get();
        for (int w = 0; w < nw; w++) {
            List<String> cmd = new ArrayList<>(List.of(java));
            cmd.addAll(ProcessHandle.current().info().arguments()
                    .map(x -> Arrays.asList(jvmArgs(x))).get());
            cmd.addAll(List.of("worker", file, "" + w, "" + nw,
                               "" + ss.getLocalPort()));
            procs.add(new ProcessBuilder(cmd).inheritIO().start());
        }
        BufferedReader[] in = new BufferedReader[nw];
        Socket[] socks = new Socket[nw];
        for (int i = 0; i < nw; i++) {
            Socket s = ss.accept();
            BufferedReader r = new BufferedReader(
                    new InputStreamReader(s.getInputStream()));
            int w = Integer.parseInt(r.readLine().split(" ")[1]);
            in[w] = r;
            socks[w] = s;
        }
        Files.writeString(Path.of("ready.tmp"),
                ProcessHandle.current().pid() + "\n");
        Files.move(Path.of("ready.tmp"), Path.of("ready"),
                   StandardCopyOption.ATOMIC_MOVE);
        TreeMap<String, Long> total = new TreeMap<>();
        for (int w = 0; w < nw; w++) {
            String done = in[w].readLine();
            if (!("done " + w).equals(done))
                throw new IOException("worker " + w + " said " + done);
            sum(total, "part-" + w + ".txt");
            socks[w].close();
        }
        for (Process p : procs)
            if (p.waitFor() != 0)
                throw new IOException("a worker exited " + p.exitValue());
        for (Map.Entry<String, Long> e : total.entrySet())
            out.write(e.getKey() + " " + e.getValue() + "\n");
        out.close();
    }

    // the driver's JVM options, without its main class and arguments
    static String[] jvmArgs(String[] all) {
        int i = 0;
        while (i < all.length && all[i].startsWith("-")) {
            if (all[i].equals("-cp") || all[i].equals("-classpath"))
                i++;
            i++;
        }
        String[] r = Arrays.copyOf(all, i + 1);
        r[i] = "WordCount";
        return r;
    }

    static void sum(Map<String, Long> m, String file) throws IOException {
        try (BufferedReader r = new BufferedReader(new FileReader(file))) {
            String line;
            while ((line = r.readLine()) != null) {
                String[] kv = line.split(" ");
                m.merge(kv[0], Long.parseLong(kv[1]), Long::sum);
            }
        }
    }

    static void spill(Map<String, Long> m, Writer w) throws IOException {
        for (Map.Entry<String, Long> e : m.entrySet())
            w.write(e.getKey() + " " + e.getValue() + "\n");
        w.flush();
        m.clear();
    }

    static void worker(String file, int w, int nw, int port)
            throws Exception {
        Socket s = new Socket("127.0.0.1", port);
        Writer to = new OutputStreamWriter(s.getOutputStream());
        to.write("hello " + w + "\n");
        to.flush();
        Writer spill = new BufferedWriter(
                new FileWriter("spill-" + w + ".txt"));
        Writer part = new FileWriter("part-" + w + ".txt");
        RandomAccessFile raf = new RandomAccessFile(file, "r");
        long size = raf.length();
        long start = size * w / nw, end = size * (w + 1) / nw;
        long half = start + (end - start) / 2;
        raf.seek(start > 0 ? start - 1 : 0);
        BufferedInputStream in = new BufferedInputStream(
                new FileInputStream(raf.getFD()), 1 << 16);
        long pos = start > 0 ? start - 1 : 0;
        if (start > 0) {	// the line that starts before: not ours
            int c;
            while ((c = in.read()) != -1 && c != '\n')
                pos++;
            pos++;
        }
        HashMap<String, Long> m = new HashMap<>();
        StringBuilder word = new StringBuilder();
        boolean paused = false;
        int lines = 0;
        while (pos < end) {
            if (!paused && pos >= half) {
                paused = true;
                Files.writeString(Path.of("paused-" + w), "");
                while (!Files.exists(Path.of("resume")))
                    Thread.sleep(50);
            }
            int c;	// one line, that starts at pos
            while ((c = in.read()) != -1) {
                pos++;
                if (c == ' ' || c == '\n') {
                    if (word.length() > 0)
                        m.merge(word.toString(), 1L, Long::sum);
                    word.setLength(0);
                    if (c == '\n')
                        break;
                } else {
                    word.append((char) c);
                }
            }
            if (c == -1)
                break;
            if (++lines % SPILL == 0)
                spill(m, spill);
        }
        spill(m, spill);
        spill.close();
        sum(m, "spill-" + w + ".txt");
        spill(new TreeMap<>(m), part);
        part.close();
        raf.close();
        to.write("done " + w + "\n");
        to.flush();
        s.close();
    }
}
