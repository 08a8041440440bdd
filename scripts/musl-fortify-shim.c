/* Linked into boxtop's musl build only (scripts/build-release.sh).
 *
 * The release binary is linked statically against musl, with the distribution's static
 * libseccomp, which was compiled against glibc with _FORTIFY_SOURCE: of everything it
 * calls, only glibc's checked fprintf is missing from musl. This gives it, as the
 * unchecked call (libseccomp prints with it only when asked to export a filter as text).
 */
#include <stdarg.h>
#include <stdio.h>

int __fprintf_chk(FILE *stream, int flag, const char *format, ...);

int __fprintf_chk(FILE *stream, int flag, const char *format, ...)
{
    va_list args;
    int written;

    (void)flag;
    va_start(args, format);
    written = vfprintf(stream, format, args);
    va_end(args);
    return written;
}
