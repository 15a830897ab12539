/*
 * Built from the installed tree: the header's version macros must match the
 * library loaded at run time (minknow_auth_version and
 * minknow_auth_version_number). Prints the version; exits 1 on a mismatch.
 */
#include <stdio.h>
#include <string.h>

#include <minknow_auth.h>

int main(void) {
    char header[32];
    snprintf(header, sizeof header, "%d.%d.%d", MINKNOW_AUTH_VERSION_MAJOR,
             MINKNOW_AUTH_VERSION_MINOR, MINKNOW_AUTH_VERSION_PATCH);
    unsigned expected = MINKNOW_AUTH_VERSION_MAJOR * 10000u + MINKNOW_AUTH_VERSION_MINOR * 100u +
                        MINKNOW_AUTH_VERSION_PATCH;
    const char *library = minknow_auth_version();
    if (strcmp(library, header) != 0 || minknow_auth_version_number() != expected) {
        fprintf(stderr, "header %s (%u), library %s (%u)\n", header, expected, library,
                (unsigned)minknow_auth_version_number());
        return 1;
    }
    printf("%s\n", library);
    return 0;
}
