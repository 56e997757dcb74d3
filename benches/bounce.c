/* The floor of the kernel path for benches/dnsperf.sh: a UDP loop that receives a datagram, sets
 * QR and sends it straight back (one recvfrom and one sendto per query, blocking, no parsing, no
 * epoll). What a DNS server costs beyond this is its own work and its way of calling the kernel.
 *
 *   gcc -O2 -o bounce benches/bounce.c && ./bounce PORT       (on 127.0.0.1) */
#include <arpa/inet.h>
#include <stdlib.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])),
                            .sin_addr.s_addr = htonl(0x7f000001)};
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a)) return 1;
    unsigned char buf[4096];
    for (;;) {
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
        if (n < 12) continue;
        buf[2] |= 0x80;
        sendto(s, buf, n, 0, (struct sockaddr *)&from, fl);
    }
}
