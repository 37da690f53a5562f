/* OpenBLAS's CBLAS interface, as packaged by Debian (libopenblas-dev). */
#include <cblas.h>

/* The LAPACK routines OpenBLAS exports (Fortran calling convention: column-major, every argument
 * by pointer, one hidden length per character argument at the end). Declared here because
 * Debian's libopenblas-dev ships no LAPACK header. */
#include <stddef.h>
void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s, double *u, const int *ldu,
             double *vt, const int *ldvt, double *work, const int *lwork, int *iwork, int *info, size_t jobz_len);
void dsyevd_(const char *jobz, const char *uplo, const int *n, double *a, const int *lda, double *w, double *work,
             const int *lwork, int *iwork, const int *liwork, int *info, size_t jobz_len, size_t uplo_len);
void dgeqrf_(const int *m, const int *n, double *a, const int *lda, double *tau, double *work, const int *lwork, int *info);
void dorgqr_(const int *m, const int *n, const int *k, double *a, const int *lda, const double *tau, double *work,
             const int *lwork, int *info);
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t uplo_len);
