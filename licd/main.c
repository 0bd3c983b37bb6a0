/* licd: the license server; see docs/licd.md. */
#include "licd/cli.h"

int main(int argc, char **argv)
{
	return lsrv_cli_main(argc, argv);
}
