# counter.pl - the counter workload in Perl.
#
# Appends "N\n" to D/count every ~20 ms through one O_APPEND fd, creates
# D/ready (holding its PID) after five lines, and on D/stop checks that an
# array and a hash built at start are intact and that the count file has
# as many lines as it wrote.  Run as: perl counter.pl (cwd D).
use strict;
use warnings;
use Cwd qw(getcwd);
use Fcntl qw(O_WRONLY O_CREAT O_APPEND);

my $d = getcwd();

sub fail { print STDERR "FAIL: $_[0]\n"; exit 1; }

sub ready {
	open(my $f, '>', "$d/ready.tmp") or fail("open ready.tmp: $!");
	print $f "$$\n";
	close($f) or fail("close ready.tmp: $!");
	rename("$d/ready.tmp", "$d/ready") or fail("rename: $!");
}

my @data = map { $_ * 3 + 1 } 0 .. 99999;
my %hash = map { ("k$_" => $_ * $_) } 0 .. 9999;
my $sum = 0;
$sum += $_ for @data;

sysopen(my $cf, "$d/count", O_WRONLY | O_CREAT | O_APPEND, 0644)
	or fail("open count: $!");
my $n = 0;
while (1) {
	my $line = "$n\n";
	syswrite($cf, $line) == length($line) or fail("write count: $!");
	$n++;
	ready() if $n == 5;
	last if $n > 5 && -e "$d/stop";
	select(undef, undef, undef, 0.02);
}

my $s = 0;
$s += $_ for @data;
fail("array contents changed") if $s != $sum || @data != 100000;
for my $i (0 .. 9999) {
	fail("hash entry k$i changed") if $hash{"k$i"} != $i * $i;
}
open(my $rf, '<', "$d/count") or fail("open count: $!");
my $lines = 0;
$lines++ while <$rf>;
close($rf);
fail("count file has $lines lines, the counter is at $n") if $lines != $n;
exit 0;
