/* fuzz-jansson.h — for the fuzz targets that use jansson (include once, in
 * the target's .c).
 *
 * jansson seeds its object hashing from /dev/urandom; a fixed seed keeps a
 * run with -seed=1 the same run every time (key order feeds coverage). */
#pragma once

#include <jansson.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        json_object_seed(1);
        return 0;
}
