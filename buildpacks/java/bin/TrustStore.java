// Writes every certificate of a PEM bundle (the system's, with the builder's
// extra CA certificates) into a JKS trust store, the format of a JDK's
// lib/security/cacerts. Debian's ca-certificates-java imports only the first
// certificate of each file, so a bundle of extra CAs is otherwise not trusted
// by Java while curl trusts it.
//
//   java TrustStore.java BUNDLE.pem OUT
import java.io.FileInputStream;
import java.io.FileOutputStream;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;

public class TrustStore {
    public static void main(String[] args) throws Exception {
        KeyStore store = KeyStore.getInstance("JKS");
        store.load(null, null);
        int n = 0;
        try (FileInputStream in = new FileInputStream(args[0])) {
            for (Certificate cert : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                X509Certificate x509 = (X509Certificate) cert;
                store.setCertificateEntry("paas-" + n++ + "-" + x509.getSubjectX500Principal().getName().hashCode(), x509);
            }
        }
        try (FileOutputStream out = new FileOutputStream(args[1])) {
            store.store(out, "changeit".toCharArray());
        }
        System.out.println(n);
    }
}
